// Package models is the registry of the models gradlab ships: each is a
// configuration type and a constructor on the layer API (package nn) in a
// package of its own (models/mlp, …). Build makes a model from its name and
// its configuration's JSON, which is how `gradlab evaluate` and `-resume`
// rebuild the model a checkpoint was made from. Package train knows none of
// them: it trains any nn.Model.
package models
