"""User Maintenance: the list, create, edit, disable/enable and password pages."""
