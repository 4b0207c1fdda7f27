"""Script authoring URLs, included under ``admin-tools/scripts/`` in the ``admin_tools``
namespace (``admin_tools:scripts`` is the Script Set list)."""

from django.urls import path

from admin_tools.scripts import views

urlpatterns = [
    path("", views.set_list, name="scripts"),
    path("new-set/", views.set_create, name="script-set-create"),
    path("sets/<slug:slug>/", views.set_detail, name="script-set"),
    path("sets/<slug:slug>/new/", views.script_create, name="script-create"),
    path("<int:pk>/", views.script_detail, name="script"),
    path("<int:pk>/edit/", views.script_edit, name="script-edit"),
    path("<int:pk>/publish/", views.script_publish, name="script-publish"),
    path("<int:script_pk>/steps/new/", views.step_form, name="step-create"),
    path("<int:script_pk>/outcomes/new/", views.outcome_form, name="outcome-create"),
    path("steps/<int:pk>/", views.step_form, name="step-edit"),
    path("steps/<int:pk>/delete/", views.step_delete, name="step-delete"),
    path("steps/<int:step_pk>/answers/new/", views.answer_form, name="answer-create"),
    path("answers/<int:pk>/", views.answer_form, name="answer-edit"),
    path("answers/<int:pk>/delete/", views.answer_delete, name="answer-delete"),
    path("outcomes/<int:pk>/", views.outcome_form, name="outcome-edit"),
    path("versions/<int:pk>/", views.version_detail, name="script-version"),
]
