"""The simulated IoT Hub push: what the cloud pushes (`feed.py`), in which item shapes (`wire.py`), and the
sender that POSTs it to a receiver, live or replaying a window (`sender.py`)."""
