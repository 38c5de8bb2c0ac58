"""Disclosure control: which figures a report withholds, and a proof that it is enough.

* `releases` -- the vocabulary: a `Release` is one set of figures over one group.
* `plan` -- the planner: small groups, complementary suppression, and more where the
  verifier finds a way to work a withheld value out.
* `verify` -- the verifier, written apart from the planner: from the releases and the
  cohort alone it builds every published figure as a linear equation in the moments
  of the smallest cells of people and checks that nothing protected is determined.
"""
