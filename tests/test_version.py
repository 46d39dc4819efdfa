"""The version lives in one place."""
import configparser
import os

import minicnn


def test_the_version_is_written_once_in_the_package_and_setup_cfg_reads_it():
    config = configparser.ConfigParser()
    config.read(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.cfg"))
    assert config["metadata"]["version"] == "attr: minicnn.__version__"
    assert minicnn.__version__.count(".") == 2
