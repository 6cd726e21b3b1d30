from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"

    def ready(self) -> None:
        from groups.limits import install_setting_defaults

        install_setting_defaults()
