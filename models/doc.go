// Package models is the registry of the models gradlab ships: each is a
// configuration type and a constructor on the layer API (package nn) in a
// package of its own (models/mlp, …). Build makes a model from its name and
// its configuration's JSON, which is how `gradlab evaluate` and `-resume`
// rebuild the model a checkpoint was made from, and Load rebuilds and
// restores a trained model from its checkpoint in one call (the one loader
// of evaluate, summary, export, predict and any Go program). Each model is
// one registry Entry: name, summary, default configuration (whose fields
// tagged `flag:"…"` are its gradlab train flags, made by Flags), constructor
// and description (Describe). Package train knows none of them: it trains
// any nn.Model.
package models
