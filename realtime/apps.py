from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from imserver.local_delivery import set_listener_finder
        from realtime.fanout import running_listener

        set_listener_finder(running_listener)
