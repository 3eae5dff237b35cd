"""What `spc generate` writes from the code, the documents SPC publishes and commits:
`asyncapi.yaml` (`asyncapi`), `openapi.yaml` (`openapi`, with the example requests of
`examples`), deploy/rabbitmq/definitions.json (`definitions`), deploy/k8s/ (`kubernetes`) and the
generated parts of the prose (`docs`)."""
