"""A1111's modules.shared: opts (with add_option / OptionInfo / onchange,
persisted to a JSON file like config.json) and cmd_opts."""

import json
import os
import shlex

from modules import cmd_args

cmd_opts, _ = cmd_args.parser.parse_known_args(shlex.split(os.environ.get("COMMANDLINE_ARGS", "")))


class OptionInfo:
    def __init__(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        comment_before="",
        comment_after="",
        infotext=None,
        restrict_api=False,
        category_id=None,
    ):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.restrict_api = restrict_api

    def info(self, text):
        self.comment_after = text
        return self

    def needs_restart(self):
        return self


class Options:
    def __init__(self, filename=None):
        object.__setattr__(self, "data_labels", {})
        object.__setattr__(self, "data", {})
        object.__setattr__(self, "filename", filename)
        if filename and os.path.exists(filename):
            with open(filename) as f:
                self.data.update(json.load(f))

    def add_option(self, key, info):
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)

    def __getattr__(self, item):
        if item in self.data:
            return self.data[item]
        if item in self.data_labels:
            return self.data_labels[item].default
        raise AttributeError(item)

    def __setattr__(self, key, value):
        self.data[key] = value

    def set(self, key, value, is_api=False, run_callbacks=True):
        """A1111 1.10's Options.set: API writes to restrict_api options are
        refused; onchange runs after the value changed."""
        old = self.data.get(key, None)
        if old == value:
            return False
        option = self.data_labels[key]
        if is_api and option.restrict_api:
            return False
        self.data[key] = value
        if run_callbacks and option.onchange is not None:
            try:
                option.onchange()
            except Exception:
                self.data[key] = old
                return False
        return True


opts = Options(os.environ.get("MM_STUB_CONFIG"))
