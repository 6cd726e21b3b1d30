from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"

    def ready(self) -> None:
        from groups import openapi  # noqa: F401  (the schema extension of MutedUntilField)
