from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self) -> None:
        from realtime.frames import register_presence_audience
        from social.selectors import presence_audience_ids

        register_presence_audience(presence_audience_ids)
