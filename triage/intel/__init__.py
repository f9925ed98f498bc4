"""Intelligence items: the ranked queue, its stored ranking, replay and regions."""
