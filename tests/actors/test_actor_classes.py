"""Our actors never shadow pykka's own attributes (an AssetWatcher._stop once broke shutdown)."""

import importlib
import inspect
import pkgutil

import pykka

import actors
from actors.supervision import SupervisedActor

PYKKA_NAMES = {name for klass in pykka.ThreadingActor.__mro__ for name in vars(klass)}
ALLOWED = {"__init__", "__doc__", "__module__", "__qualname__", "on_receive", "__annotations__", "__dict__",
           "__weakref__", "__firstlineno__", "__static_attributes__", "__orig_bases__", "__parameters__",
           "__abstractmethods__", "_abc_impl", "__init_subclass__", "__slots__", "use_daemon_thread"}


def _actor_classes():
    for module in pkgutil.walk_packages(actors.__path__, "actors."):
        for _, klass in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(klass, SupervisedActor) and klass.__module__.startswith("actors."):
                yield klass


def test_no_actor_class_redefines_a_pykka_attribute():
    clashes = {f"{klass.__name__}.{name}" for klass in _actor_classes()
               for name in vars(klass) if name in PYKKA_NAMES and name not in ALLOWED
               and klass is not SupervisedActor}
    assert not clashes, f"these shadow pykka internals: {sorted(clashes)}"
