"""The figures, drawn with matplotlib from numbers: a run's (:mod:`.run`), a sweep's
(:mod:`.sweep`) and an alignment's (:mod:`.align`)."""
