from django.apps import AppConfig
from django.conf import settings


class FilesConfig(AppConfig):
    name = "files"

    def ready(self) -> None:
        if settings.IM_DAPHNE_STREAMING_BODY:
            from imserver.overrides import daphne_streaming

            daphne_streaming.install()
