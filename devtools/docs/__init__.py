"""The documentation that is generated from the code: `make docs`, the constructs' API reference (``api_reference``)."""
