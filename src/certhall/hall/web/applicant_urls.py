from django.urls import URLPattern, URLResolver

app_name = "hall-applicant"
urlpatterns: list[URLPattern | URLResolver] = []
