# Makes test/ a package, so that "python3 -m unittest test/test_x.py" imports
# these files and not the standard library's "test" package.
