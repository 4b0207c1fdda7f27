from django.contrib import admin

from scripts.models import ScriptSet


@admin.register(ScriptSet)
class ScriptSetAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")
