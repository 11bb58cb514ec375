"""WhiteNoise for an ASGI server: the same middleware, usable in an async request stack.

WhiteNoise's middleware is sync only, and one sync middleware makes Django run the whole
chain in a thread and hop back to the event loop for the view, on every request. Finding a
static file is a dictionary lookup (files are indexed at start-up), so it is done in the
event loop; every other request goes straight on to the next middleware.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        static_file = (
            self.find_file(request.path_info)
            if self.autorefresh
            else self.files.get(request.path_info)
        )
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)
