"""Local emulators of Teamleader Focus and Twinfield, plus a realistic data generator.

Used by the demo, the tests and the benchmarks; never imported by product code. Product code reaches it
only through connections whose host points here.
"""
