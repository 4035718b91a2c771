"""Wire shapes of the API's answers: devices and positions, reports, platform methods, pre-rendered tracks."""
