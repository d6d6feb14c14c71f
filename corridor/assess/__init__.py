"""What people ask of a plan: AFIR compliance, route coverage, marginal values, truck profiles.

- :mod:`corridor.assess.afir`: AFIR (Regulation (EU) 2023/1804) spacing and pool power on the
  named corridors, per direction.
- :mod:`corridor.assess.routes`: reading a logistics firm's routes file.
- :mod:`corridor.assess.plans`: reading a written plan's sites back (plan.json, site list CSV).
- :mod:`corridor.assess.coverage`: can a truck drive the routes with the plan's sites (sites on
  the route, state-of-charge simulation, breaks).
- :mod:`corridor.assess.marginal`: what the plan loses without each site.
- :mod:`corridor.assess.trucks`: truck profiles (shipped in ``corridor/data/trucks/`` or the
  user's).

Writing and presenting the results is :mod:`corridor.outputs`' job.
"""
