from django.http import HttpRequest, HttpResponse


def import_people(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError("the CSV import is being built")
