from django.db import migrations

from core.console.audit_sql import install, uninstall


class Migration(migrations.Migration):
    dependencies = [("core", "0002_data_export")]
    operations = [migrations.RunPython(install, uninstall)]
