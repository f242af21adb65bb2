from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_sms_code_refund_purpose")]

    operations = [
        migrations.AddField(
            model_name="ratelimitevent",
            name="count",
            field=models.PositiveIntegerField(default=1),
        ),
    ]
