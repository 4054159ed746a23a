import os
import time
import uuid

from wf import UserApi, wfapi


class ResilMarker:
    """One run of a step: a line ``order step token session`` is appended (one write call on
    an O_APPEND file, so lines of concurrent processes never mix) to the file named by the
    order's static data ``markers`` before the step's work; the token is committed with the
    step in the dynamic data. The committed token must be the last line written for that step:
    a line after it would be a run of a step that had already committed COMPLETE."""

    @staticmethod
    def run(step):
        static = wfapi.getStaticData()
        token = uuid.uuid4().hex
        line = f"{wfapi.getWfiid()} {step} {token} {UserApi.getSessionId()}\n"
        fd = os.open(static["markers"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        time.sleep(static.get("sleep", 0.005))
        wfapi.updateDynamicData({step: token})
