"""Planning for a stabilisation force: how many sorties, and in what order it withdraws."""
