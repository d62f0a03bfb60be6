"""This app's own infrastructure package (named like most CDK apps' own: it never collides with
the library, whose package is ``promote_model_cdk``)."""
