"""The editors' pronunciation lexicon (thin views) and the order the reading rules apply in."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission

from broadcast.models import PronunciationEntry

from .base import LexiconEditors, Readers
from .serializers import PronunciationSerializer

LEXICON_ORDER = (
    "Order of the reading rules: (1) built-in rules read structured tokens first: web and e-mail "
    "addresses, document codes (15/QĐ-TTg), account, ID and telephone numbers, times, dates and "
    "fractions, amounts and units (50.000đ/người, km/h); (2) the editors' pronunciation entries, on whole "
    "words only (case-sensitive, longest first), override the built-in abbreviation table and never "
    "apply inside a unit, code or address a built-in rule has read; (3) the built-in abbreviation table "
    "(UBND, BQL, SĐT…); (4) letter-digit codes, ranges and plain numbers; (5) an upper-case abbreviation "
    "found nowhere is spelled letter by letter and warned about. One text reads one token one way."
)


@extend_schema_view(
    get=extend_schema(description="The editors' pronunciation entries. " + LEXICON_ORDER),
    post=extend_schema(description="Add an entry: a term read, as a whole word, the way `spoken` says. "
                                   + LEXICON_ORDER),
)
class PronunciationList(generics.ListCreateAPIView):
    serializer_class = PronunciationSerializer
    search_fields = ["term", "spoken"]
    ordering_fields = ["term", "updated_at"]
    queryset = PronunciationEntry.objects.all()

    def get_permissions(self) -> list[BasePermission]:
        return [LexiconEditors()] if self.request.method == "POST" else [Readers()]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(created_by=self.request.user)


@extend_schema_view(
    get=extend_schema(description="One pronunciation entry. " + LEXICON_ORDER),
    patch=extend_schema(description="Change an entry (whole words only). " + LEXICON_ORDER),
)
class PronunciationDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = PronunciationSerializer
    queryset = PronunciationEntry.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_permissions(self) -> list[BasePermission]:
        return [Readers()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [LexiconEditors()]
