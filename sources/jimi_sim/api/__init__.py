"""The simulated open API: what a client of `/route/rest` talks to.

- `app.py`: the Starlette app and the checks common to every method (signature, timestamp, token, rate,
  latency, injected faults); `server.py` runs it over real HTTP.
- `methods/`: one handler per API method, by subject; `registry.py`: how a handler is declared.
- `params.py`, `errors.py`, `tokens.py`: parameter checks, refusal codes, access tokens.
- `wire/`: the JSON shapes of the answers, typed as the vendor's examples; `shapes.py` picks a side
  where the reference sources disagree.
- `locations/`: the fleet sweep behind `location.list` / `location.get`, fast enough for 2,000 devices.
- `state.py`: one running simulator (settings, fleet, clock, tokens, caches); `rowcache.py`: paged reports.

The API reads the fleet (`sources.jimi_sim.world`); nothing in the fleet reads the API.
"""
