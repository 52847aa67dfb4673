"""What the tests share: data made through the API, problem checks, scratch databases, keys,
and servers run in process or as real processes."""
