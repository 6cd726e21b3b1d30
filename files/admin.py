from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from files import services
from files.models import File


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    """Read-only listing for moderation; deleting removes the stored bytes as well."""

    list_display = (
        "id",
        "file_name",
        "user",
        "file_size",
        "content_type",
        "file_type",
        "created_at",
        "expire_at",
    )
    list_filter = ("file_type", "created_at", "expire_at")
    search_fields = ("=id", "file_name", "etag", "user__username")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in File._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: File | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: File) -> None:
        services.file_remove(file=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[File]) -> None:
        """The built-in "delete selected" action, object by object through the service."""
        for file in queryset:
            services.file_remove(file=file)
