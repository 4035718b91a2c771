"""One vehicle's working day as fixes: road paths (`paths.py`), speeds along them (`motion.py`), sampled
fixes (`tracer.py`), standing-still fixes (`still.py`), and the day that ties them together (`daylife.py`)."""
