"""The app's gradio UIs. Each module here has `build(ctx) -> gradio.Blocks`
and is mounted by `movieminter.app.server` at the path UI_MODULES gives it:
`minter` at /, `studio` at /studio, `watch` at /watch, `jobs` at /jobs.
Use relative URLs only: the same UI is served at / and under A1111's
/movieminter/ proxy prefix. Shared assets are in movieminter/app/static/
(served at static/), e.g. mm-fetch.js for CSRF-protected API calls."""
