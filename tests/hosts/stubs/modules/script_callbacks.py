"""A1111's modules.script_callbacks: registration functions and the calls
webui.py makes (ui_tabs_callback, ui_settings_callback, app_started_callback)."""

_callbacks = {"ui_tabs": [], "ui_settings": [], "app_started": [], "script_unloaded": []}


def on_ui_tabs(callback):
    _callbacks["ui_tabs"].append(callback)


def on_ui_settings(callback):
    _callbacks["ui_settings"].append(callback)


def on_app_started(callback):
    _callbacks["app_started"].append(callback)


def on_script_unloaded(callback):
    _callbacks["script_unloaded"].append(callback)


def ui_tabs_callback():
    res = []
    for c in _callbacks["ui_tabs"]:
        res += c() or []
    return res


def ui_settings_callback():
    for c in _callbacks["ui_settings"]:
        c()


def app_started_callback(demo, app):
    for c in _callbacks["app_started"]:
        c(demo, app)


def script_unloaded_callback():
    for c in _callbacks["script_unloaded"]:
        c()
