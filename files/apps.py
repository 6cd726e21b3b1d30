from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"

    def ready(self) -> None:
        # Registers the upload route's body limit with imserver.api.request_limits.
        from files import uploads  # noqa: F401
