"""A URLconf for the DjangoClientTransport test: the fake site behind a Django view."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

#: The FakeExchangeServer the view delegates to (set by the test).
current = {"fake": None}


@csrf_exempt
def exchange(request):
    headers = {
        "Authorization": request.META.get("HTTP_AUTHORIZATION", ""),
        "Cookie": request.META.get("HTTP_COOKIE", ""),
        "Content-Type": request.META.get("CONTENT_TYPE", ""),
        "User-Agent": request.META.get("HTTP_USER_AGENT", ""),
    }
    answer = current["fake"].request(
        request.method, request.GET.dict(), body=request.body, headers={k: v for k, v in headers.items() if v}
    )
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.headers["content-type"])
    # A cookie a real 1C client never sends back (it only sends the checkauth one).
    response.set_cookie("sessionid", "should-not-come-back")
    return response


urlpatterns = [path("1c/exchange/", exchange)]
