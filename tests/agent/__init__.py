"""Tests of the station agent (stations/agent), which runs without Django."""
