"""Small, model-free helpers at the bottom of the dependency order: any app may import them,
they import no app."""
