"""The three-cluster lab: real kube-apiservers on loopback plus product stand-ins (tests only)."""
