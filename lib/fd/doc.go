// Package fd scores MNIST samples with FD-MNIST: the Fréchet distance between Gaussians fitted to
// the penultimate-layer features of a small MNIST classifier, one set of features from the samples
// and one from the MNIST test digits.
//
// It is the MNIST analogue of FID (Heusel et al., 2017), which uses the pool3 features of
// Inception-v3 on natural images. Inception's weights are not part of this project, and on 28×28
// digits a classifier trained on MNIST itself is the usual choice; the numbers are therefore not
// FID and not comparable with FID values reported elsewhere, only with other FD-MNIST values
// computed with the same classifier weights and the same reference set.
//
// The classifier (Classifier) is a two-layer CNN with a 128-unit feature layer, trained with Adam
// by TrainClassifier in about a minute of CPU, and saved or loaded with Save and Load. Stats,
// FrechetDistance and Score do the rest.
package fd
