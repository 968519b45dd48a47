import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from stations.roles import ALL_ROLES, ROLE_GRANTS


def _grants_in_db() -> dict[str, set[str]]:
    return {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}


def _expected() -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {role: set() for role in ALL_ROLES}
    for grants in ROLE_GRANTS.values():
        for role, codenames in grants.items():
            expected[role] |= set(codenames)
    return expected


@pytest.mark.django_db
def test_migrations_create_every_role_group_with_its_permissions():
    assert _grants_in_db() == _expected()


@pytest.mark.django_db(transaction=True)
def test_role_groups_survive_a_flush():
    call_command("flush", interactive=False, verbosity=0)
    assert _grants_in_db() == _expected()
