"""Station operators (a person tied to one station) and whom to phone at a station."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from stations.migrations._grants import regrant

GRANTS = [("supervisor", "view_stationoperator")]


def grant(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="station_operator")
    regrant(apps, "stations", grant=GRANTS)


def ungrant(apps, schema_editor):
    regrant(apps, "stations", revoke=GRANTS)


class Migration(migrations.Migration):

    dependencies = [
        ('stations', '0006_commune_operator_role'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name='station',
            name='contact_name',
            field=models.CharField(blank=True, max_length=200, verbose_name='người liên hệ'),
        ),
        migrations.AddField(
            model_name='station',
            name='contact_phone',
            field=models.CharField(blank=True, max_length=32, verbose_name='điện thoại liên hệ'),
        ),
        migrations.CreateModel(
            name='StationOperator',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('station', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='operators', to='stations.station', verbose_name='đài')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='station_operator', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'nhân viên đài',
                'verbose_name_plural': 'nhân viên đài',
            },
        ),
        migrations.RunPython(grant, ungrant),
    ]
