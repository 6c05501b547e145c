"""Churn alerts, and the nightly scoring that produces them (django-celery-beat's database
scheduler reads the entry; operators can change the time or disable it in the admin)."""

import django.db.models.deletion
from django.db import migrations, models

TASK_NAME = "Nightly churn scoring and early warning"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="4", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "segments.churn_score",
            "crontab": crontab,
            "description": "Score every customer with the active churn model after the nightly feature refresh; "
            "customers whose risk crosses the alert threshold join the early-warning list.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0003_recommendations'),
        ('customers', '0006_transcript'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChurnAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('risk', models.FloatField(verbose_name='churn risk')),
                ('previous_risk', models.FloatField(blank=True, null=True, verbose_name='previous churn risk')),
                ('monetary', models.FloatField(default=0, verbose_name='all-time spend')),
                ('enrolled_in', models.CharField(blank=True, default='', max_length=100, verbose_name='enrolled in')),
                ('enrolled_at', models.DateTimeField(blank=True, null=True, verbose_name='enrolled at')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer')),
                ('model', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='analytics.churnmodel')),
            ],
            options={
                'verbose_name': 'churn alert',
                'verbose_name_plural': 'churn alerts',
                'indexes': [models.Index(fields=['day', 'risk'], name='churn_alert_day_idx')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'day'), name='churn_alert_once_a_day')],
            },
        ),
        migrations.RunPython(schedule, unschedule),
    ]
