"""Examples of using promote-model from a platform team's own CDK code."""
