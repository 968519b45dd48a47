"""The editor's desk: the bulletin list (search, filters, tabs) and the editor (write, preview the reading,
save, submit, withdraw, delete a draft, upload a recording, add a pronunciation)."""

from __future__ import annotations

from django.urls import path

from . import editor, listing

urlpatterns = [
    path("newsroom/bulletins/", listing.bulletin_list, name="newsroom-bulletins"),
    path("newsroom/bulletins/new/", editor.new_bulletin, name="newsroom-bulletin-new"),
    path("newsroom/bulletins/preview/", editor.preview, name="newsroom-bulletin-preview"),
    path("newsroom/bulletins/lexicon/", editor.add_pronunciation, name="newsroom-lexicon-add"),
    path("newsroom/bulletins/<int:pk>/edit/", editor.edit_bulletin, name="newsroom-bulletin-edit"),
    path("newsroom/bulletins/<int:pk>/recording/", editor.upload_recording, name="newsroom-bulletin-recording"),
]
