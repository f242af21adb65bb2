from django.urls import URLPattern, URLResolver

app_name = "hall-staff"
urlpatterns: list[URLPattern | URLResolver] = []
