"""Version of crystal-fourier; also the generator version stamped in generated/."""

__version__ = "0.1.0"
