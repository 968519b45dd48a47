"""The MQTT side of push, free of models: the protocol's messages and the publisher."""
