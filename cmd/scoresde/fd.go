package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"time"

	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/fd"
	"github.com/scoresde/scoresde/lib/npy"
)

// defaultClassifierDir is where fd-classifier writes, and fd reads, the FD-MNIST classifier when
// --out / --classifier are not given: <cache>/fd-mnist-classifier.
func defaultClassifierDir() (string, error) {
	c, err := data.CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "fd-mnist-classifier"), nil
}

// fdReport is the JSON written by `scoresde fd --json`.
type fdReport struct {
	// FDMNIST is the Fréchet distance between the samples' classifier features and the reference
	// set's (squared feature units).
	FDMNIST float64 `json:"fd_mnist"`
	// N is the number of samples; Samples the file they came from; Centered whether they were
	// read as values in [−1, 1].
	N        int    `json:"n"`
	Samples  string `json:"samples"`
	Centered bool   `json:"centered"`
	// Reference names the reference set and RefN its size.
	Reference string `json:"reference"`
	RefN      int    `json:"reference_n"`
	// Classifier is the classifier folder and ClassifierAccuracy its recorded test accuracy (0–1).
	Classifier         string  `json:"classifier"`
	ClassifierAccuracy float64 `json:"classifier_test_accuracy,omitempty"`
	// Floor is FD-MNIST of FloorN real training digits against the same reference: the value a
	// perfect sampler would get at about this sample size (absent with --floor=false).
	Floor  float64 `json:"floor,omitempty"`
	FloorN int     `json:"floor_n,omitempty"`
}

func init() {
	register(command{
		name: "fd-classifier",
		summary: "Train the MNIST classifier that FD-MNIST (scoresde fd) takes its features from, and save it.\n" +
			"The 128 penultimate-layer features are compared; the test accuracy is printed and recorded.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			dataDir := fs.String("data-dir", "", "folder with the MNIST IDX files (default: the MNIST cache, downloaded when missing)")
			out := fs.String("out", "", "folder to write the classifier to (default: <cache>/fd-mnist-classifier)")
			def := fd.DefaultTrainOptions()
			epochs := fs.Int("epochs", def.Epochs, "passes over the training digits")
			seed := fs.Uint64("seed", def.Seed, "seed of the initialization and the batch order")
			nTrain := fs.Int("n-train", 0, "train on the first n training digits only (0: all)")
			quiet := fs.Bool("quiet", false, "no progress bar")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *epochs < 1 {
					return usagef("--epochs=%d, want ≥ 1", *epochs)
				}
				if *nTrain < 0 {
					return usagef("--n-train=%d, want ≥ 0 (0 trains on every training digit)", *nTrain)
				}
				dir := *out
				if dir == "" {
					var err error
					if dir, err = defaultClassifierDir(); err != nil {
						return err
					}
				}
				train, err := loadImages("mnist", *dataDir, "train", stderr)
				if err != nil {
					return fmt.Errorf("--data-dir: %w", err)
				}
				test, err := loadImages("mnist", *dataDir, "test", stderr)
				if err != nil {
					return fmt.Errorf("--data-dir: %w", err)
				}
				if *nTrain > 0 && *nTrain < train.Len() {
					idx := make([]int, *nTrain)
					for i := range idx {
						idx[i] = i
					}
					if train, err = train.Subset(idx); err != nil {
						return err
					}
				}
				opts := fd.DefaultTrainOptions()
				opts.Epochs, opts.Seed = *epochs, *seed
				if train.Len() < opts.Batch {
					return usagef("--n-train=%d is fewer than one batch of %d digits", train.Len(), opts.Batch)
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				var log io.Writer = stderr
				if *quiet {
					log = nil
				}
				start := time.Now()
				c, err := fd.TrainClassifier(b, train, opts, log)
				if err != nil {
					return err
				}
				secs := time.Since(start).Seconds()
				acc, err := c.Accuracy(b, test)
				if err != nil {
					return err
				}
				c.TestAccuracy = acc
				if err := c.Save(dir); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				fmt.Fprintf(stdout, "trained the FD-MNIST classifier on %d digits for %d epochs in %.1fs: test accuracy %.2f%% on %d digits\n",
					train.Len(), opts.Epochs, secs, 100*acc, test.Len())
				if acc < 0.97 {
					fmt.Fprintf(stdout, "warning: test accuracy below 97%%: train longer (--epochs) or on all digits before comparing FD-MNIST values\n")
				}
				fmt.Fprintf(stdout, "wrote %s\n", dir)
				return nil
			}
		},
	})
	register(command{
		name: "fd",
		summary: "FD-MNIST of MNIST samples: FID's recipe on a small MNIST classifier's features (not FID).\n" +
			"The Fréchet distance between Gaussians fitted to the 128 features of the fd-classifier network\n" +
			"on the samples and on the MNIST test digits; it compares only with FD-MNIST values of the same\n" +
			"classifier and reference set at a similar sample size.",
		setup: func(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) error {
			samples := fs.String("samples", "samples.npy", "samples to score: a .npy array of shape (n, 784), (n, 28, 28) or (n, 28, 28, 1)")
			clfDir := fs.String("classifier", "", "folder of the classifier written by fd-classifier (default: <cache>/fd-mnist-classifier)")
			dataDir := fs.String("data-dir", "", "folder with the MNIST IDX files (default: the MNIST cache, downloaded when missing)")
			centered := fs.Bool("centered", false, "the samples lie in [−1, 1] (models trained on centered data) rather than [0, 1]")
			clip := fs.Bool("clip", false, "clip the samples to the pixel range ([0, 1], or [−1, 1] with --centered) first, as writing them as 8-bit images does (the references clip before FID)")
			floor := fs.Bool("floor", true, "also print FD-MNIST of as many real training digits (the value a perfect sampler gets)")
			jsonOut := fs.String("json", "", "also write the result as JSON to this file")
			return func(args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *samples == "" {
					return usagef("--samples is empty: name a .npy file of MNIST samples")
				}
				x, err := readMNISTSamples(*samples, *centered, *clip)
				if err != nil {
					return err
				}
				dir := *clfDir
				if dir == "" {
					if dir, err = defaultClassifierDir(); err != nil {
						return err
					}
				}
				c, err := fd.Load(dir)
				if err != nil {
					return fmt.Errorf("--classifier: %w", err)
				}
				test, err := loadImages("mnist", *dataDir, "test", stderr)
				if err != nil {
					return fmt.Errorf("--data-dir: %w", err)
				}
				b, err := startBackend(stderr)
				if err != nil {
					return err
				}
				ref, err := fd.NewReference(b, c, test)
				if err != nil {
					return err
				}
				v, err := fd.Score(b, c, x, *centered, ref)
				if err != nil {
					return err
				}
				rep := fdReport{FDMNIST: v, N: len(x), Samples: *samples, Centered: *centered,
					Reference: "MNIST test digits", RefN: ref.N, Classifier: dir, ClassifierAccuracy: c.TestAccuracy}
				fmt.Fprintf(stdout, "FD-MNIST %.4g: %d samples of %s vs %d MNIST test digits (classifier %s, test accuracy %.2f%%)\n",
					v, len(x), *samples, ref.N, dir, 100*c.TestAccuracy)
				if len(x) < 1000 {
					fmt.Fprintf(stdout, "note: FD-MNIST grows as the sample shrinks; compare values at the same n (%d here, 1000 or more is usual)\n", len(x))
				}
				if *floor {
					train, err := loadImages("mnist", *dataDir, "train", stderr)
					if err != nil {
						return fmt.Errorf("--data-dir: %w", err)
					}
					digits := fd.ImagePixels(train)
					digits = digits[:min(len(digits), len(x))]
					if len(digits) >= 2 {
						fl, err := fd.Score(b, c, digits, false, ref)
						if err != nil {
							return err
						}
						rep.Floor, rep.FloorN = fl, len(digits)
						fmt.Fprintf(stdout, "FD-MNIST of %d real training digits: %.4g (the floor at this sample size)\n", len(digits), fl)
					}
				}
				if *jsonOut != "" {
					if err := writeJSON(*jsonOut, rep); err != nil {
						return fmt.Errorf("--json: %w", err)
					}
					fmt.Fprintf(stdout, "wrote %s\n", *jsonOut)
				}
				return nil
			}
		},
	})
}

// readMNISTSamples reads a .npy array of MNIST images, shape (n, 784), (n, 28, 28) or
// (n, 28, 28, 1), as [n][784] values, and checks that their range matches --centered.
func readMNISTSamples(path string, centered, clip bool) ([][]float64, error) {
	vals, shape, err := npy.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--samples: %s does not exist: pass the .npy file written by `scoresde sample --score CKPT --out FILE`", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--samples: %w", err)
	}
	ok := len(shape) == 2 && shape[1] == fd.Pixels ||
		len(shape) == 3 && shape[1] == fd.Side && shape[2] == fd.Side ||
		len(shape) == 4 && shape[1] == fd.Side && shape[2] == fd.Side && shape[3] == 1
	if !ok {
		return nil, fmt.Errorf("--samples: %s holds an array of shape %v: want MNIST images of shape (n, 784), (n, 28, 28) or (n, 28, 28, 1)", path, shape)
	}
	n := shape[0]
	if n < 2 {
		return nil, fmt.Errorf("--samples: %s holds %d image(s): FD-MNIST needs at least 2 (1000 or more for a stable value)", path, n)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--samples: %s: image %d, pixel %d is %v: remove or fix non-finite samples", path, i/fd.Pixels, i%fd.Pixels, v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	switch {
	case !centered && lo < -0.5:
		return nil, fmt.Errorf("--samples: %s has values down to %.3g: these look like centered samples in [−1, 1]; pass --centered", path, lo)
	case centered && lo > -0.5:
		return nil, fmt.Errorf("--samples: %s has no value below %.3g: these look like samples in [0, 1]; drop --centered", path, lo)
	case hi > 2 && !clip:
		return nil, fmt.Errorf("--samples: %s has values up to %.4g: scale the pixels to [0, 1] (8-bit pixels: divide by 255), or to [−1, 1] with --centered; samples of a model that stray outside the range: pass --clip", path, hi)
	}
	if clip {
		lo := 0.0
		if centered {
			lo = -1
		}
		for i, v := range vals {
			vals[i] = min(max(v, lo), 1)
		}
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = vals[i*fd.Pixels : (i+1)*fd.Pixels : (i+1)*fd.Pixels]
	}
	return out, nil
}
