// Package train fits score networks the way the reference implementation does (REFERENCE §1.12):
// Adam with linear learning-rate warm-up and global-norm gradient clipping, an exponential moving
// average (EMA) of the weights that sampling uses, checkpoints every K steps that resume exactly
// (step, optimizer state, EMA, both random states and the loss curve), a progress bar, and a clear
// stop when the loss is not finite or diverges (Config.DivergeFactor).
//
// A checkpoint directory belongs to one trainer at a time (OpenDir locks it); checkpoints are
// written atomically with the SHA-256 of every file, and a damaged newest checkpoint is set aside
// in favor of the previous intact one.
//
// One training step (data noise, loss, gradients, Adam, EMA) is a single compiled GoMLX graph; the
// Go loop only feeds it a batch of data and keeps its outputs on the backend.
package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/losses"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/progress"
	"github.com/scoresde/scoresde/lib/sde"
)

// Data draws training batches.
type Data interface {
	// Dim is the dimension of a point.
	Dim() int
	// Sample draws n points [n][Dim] using r.
	Sample(r *rand.Rand, n int) [][]float64
}

// Points is a fixed data set (e.g. read from a .npy file) sampled with replacement.
type Points struct {
	X [][]float64
}

// Dim is the dimension of the points.
func (p Points) Dim() int { return len(p.X[0]) }

// Sample draws n points uniformly with replacement.
func (p Points) Sample(r *rand.Rand, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = p.X[r.IntN(len(p.X))]
	}
	return out
}

// Config holds the hyperparameters. Start from Default.
type Config struct {
	// Steps is the number of optimizer steps to reach; Batch the batch size.
	Steps, Batch int
	// LR is Adam's learning rate, reached linearly over Warmup steps; Beta1, Beta2 and AdamEps are
	// Adam's constants (0.9, 0.999, 1e-8).
	LR                    float64
	Warmup                int
	Beta1, Beta2, AdamEps float64
	// GradClip is the global-norm clipping threshold (≤ 0: none).
	GradClip float64
	// EMA is the weight-averaging rate r (0: no averaging; the EMA equals the weights).
	// EMAWarmup uses the PyTorch reference's min(r, (1+n)/(10+n)).
	EMA       float64
	EMAWarmup bool
	// Loss is the training objective.
	Loss losses.Options
	// ScaleBySigma divides a VE network's output by σ(t).
	ScaleBySigma bool
	// Seed drives the initialization, the data and the noise.
	Seed uint64
	// CheckpointEvery writes a checkpoint every K steps (0: only at the end); Keep is how many to
	// keep (default 3).
	CheckpointEvery, Keep int
	// Data names the training data and Centered says whether image pixels were scaled to [−1, 1]
	// (else [0, 1]); both are recorded in checkpoints so that samples map back to pixels.
	Data     string `json:",omitempty"`
	Centered bool   `json:",omitempty"`
	// DivergeFactor stops training when a step's loss strays from the median m of the previous
	// DivergeWindow losses by more than DivergeFactor·max(|m|, MAD), MAD being their median
	// absolute deviation from m (a loss may be negative, as SSM's): a finite loss of 4.8e34 after
	// losses near 1 is divergence as surely as NaN. The rule waits for DivergeWindow losses (those
	// of a resumed run count). 0 turns it off; Default uses 1e3 over 100 steps.
	DivergeFactor float64 `json:",omitempty"`
	DivergeWindow int     `json:",omitempty"`
}

// Default returns the toy defaults: 5,000 steps of batch 512, Adam lr 2e-3 with 100 warm-up steps
// and clipping at 1, EMA 0.999, the references' loss for the SDE, and for VE the output divided by
// σ(t) (the references' NCSNv2 and NCSN++ VE configurations: an unscaled network cannot reach
// scores of size 1/σ_min²).
func Default(s sde.SDE) Config {
	return Config{Steps: 5000, Batch: 512, LR: 2e-3, Warmup: 100, Beta1: 0.9, Beta2: 0.999, AdamEps: 1e-8,
		GradClip: 1, EMA: 0.999, Loss: losses.Default(s), Keep: 3, ScaleBySigma: s.Parameterization() == sde.PredictScore,
		DivergeFactor: 1e3, DivergeWindow: 100}
}

// Validate reports a bad hyperparameter, naming it and the fix.
func (c Config) Validate(s sde.SDE) error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("steps=%d, want ≥ 1", c.Steps)
	case c.Batch < 1:
		return fmt.Errorf("batch=%d, want ≥ 1", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("lr=%g, want a positive learning rate (the references use 2e-4; toys train well with 1e-3)", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("warmup=%d, want ≥ 0", c.Warmup)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) || !(c.AdamEps > 0):
		return fmt.Errorf("adam β1=%g β2=%g eps=%g: want 0 ≤ β < 1 and eps > 0", c.Beta1, c.Beta2, c.AdamEps)
	case math.IsNaN(c.GradClip) || math.IsInf(c.GradClip, 0):
		return fmt.Errorf("grad-clip=%g: give a finite threshold (≤ 0 turns clipping off)", c.GradClip)
	case !(c.EMA >= 0 && c.EMA < 1):
		return fmt.Errorf("ema=%g, want 0 ≤ ema < 1 (0.999 for VE, 0.9999 for VP in the references)", c.EMA)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint-every=%d, want ≥ 0", c.CheckpointEvery)
	case c.Keep < 0:
		return fmt.Errorf("keep=%d, want ≥ 1 (0 means the default 3)", c.Keep)
	case c.DivergeFactor != 0 && !(c.DivergeFactor > 1 && !math.IsInf(c.DivergeFactor, 0)):
		return fmt.Errorf("diverge-factor=%g, want a finite factor > 1 (1e3 is the default; 0 turns the check off)", c.DivergeFactor)
	case c.DivergeFactor != 0 && (c.DivergeWindow < 1 || c.DivergeWindow > maxDivergeWindow):
		return fmt.Errorf("diverge-window=%d, want 1 to %d losses for the running median (100 is the default)", c.DivergeWindow, maxDivergeWindow)
	}
	return c.Loss.Validate(s)
}

// State is everything a training run carries from step to step.
type State struct {
	// Step is the number of optimizer steps taken.
	Step int
	// Params are the network's weights; EMA their moving average; M and V Adam's moments.
	Params, EMA, M, V []*tensors.Tensor
	// RNG is the graph's random state (noise, times); DataRNG draws the batches.
	RNG     *tensors.Tensor
	DataRNG *rand.PCG
	// Losses holds the loss of every step taken.
	Losses []float64
}

// Objective builds the training loss from the parameter nodes, a batch x [B, d], its labels [B]
// (int32; zeros when the data has none) and the random state. Nil means the score-matching loss of
// Config.Loss with the network as a score (nets.ScoreFn).
type Objective func(params []*Node, x, labels, rng *Node) (loss, newRng *Node)

// Labeled is data that also draws a class label per point (toy mixtures: the component).
type Labeled interface {
	SampleLabeled(r *rand.Rand, n int) ([][]float64, []int)
}

// Trainer trains one network on one SDE and data set.
type Trainer struct {
	Backend compute.Backend
	Net     nets.Net
	SDE     sde.SDE
	Data    Data
	Config  Config
	// Names and Frozen describe the parameters, in order.
	Names  []string
	Frozen []bool
	State  *State
	// Dir is the checkpoint directory ("" for none).
	Dir string
	// Objective replaces the score-matching loss (a classifier's cross-entropy, a conditional
	// score's loss with label dropout); set it before the first Run.
	Objective Objective
	// ObjectiveName names the Objective in progress bars and Describe (e.g. "cross-entropy").
	ObjectiveName string
	// Progress, when set, is called after every step with the steps done and Config.Steps, on
	// the training goroutine (a notebook passes live.Progress.Func to draw the loss in place).
	Progress func(done, total int)

	dir  *Dir
	step *Exec
}

// New starts a trainer. A non-empty dir is opened with OpenDir (locked until Close or the end of
// the process; warnings about damaged checkpoints go to os.Stderr) and passed to NewFromDir.
func New(b compute.Backend, net nets.Net, s sde.SDE, data Data, cfg Config, dir string) (*Trainer, error) {
	if dir == "" {
		return NewFromDir(b, net, s, data, cfg, nil)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d, err := OpenDir(dir, os.Stderr)
	if err != nil {
		return nil, err
	}
	t, err := NewFromDir(b, net, s, data, cfg, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return t, nil
}

// NewFromDir starts a trainer that writes its checkpoints to d (nil: none) and owns it from then
// on (Close closes it). When d holds a checkpoint, training resumes from it (its network, SDE
// and dimension must match the arguments' kinds; the checkpoint's values win for the network and
// SDE, cfg for the rest). Otherwise the network is initialized from cfg.Seed.
func NewFromDir(b compute.Backend, net nets.Net, s sde.SDE, data Data, cfg Config, d *Dir) (*Trainer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if cfg.Keep == 0 {
		cfg.Keep = 3
	}
	if err := cfg.Validate(s); err != nil {
		return nil, err
	}
	if data.Dim() != net.Spec().Dim {
		return nil, fmt.Errorf("data has dimension %d but the network expects %d", data.Dim(), net.Spec().Dim)
	}
	t := &Trainer{Backend: b, Net: net, SDE: s, Data: data, Config: cfg, dir: d}
	if d != nil {
		t.Dir = d.Path
		if ck := d.Latest; ck != nil {
			if ck.Net.Spec().Kind != net.Spec().Kind || ck.SDE.Name() != s.Name() || ck.Net.Spec().Dim != data.Dim() {
				return nil, fmt.Errorf("%s holds a checkpoint of a %s network on the %s SDE (d=%d), not %s on %s (d=%d): use another --ckpt directory",
					ck.Path, ck.Net.Spec().Kind, ck.SDE.Name(), ck.Net.Spec().Dim, net.Spec().Kind, s.Name(), data.Dim())
			}
			t.Net, t.SDE, t.Names, t.Frozen, t.State = ck.Net, ck.SDE, ck.Names, ck.Frozen, ck.State
			return t, nil
		}
	}
	p, err := net.Init(cfg.Seed)
	if err != nil {
		return nil, err
	}
	rng, err := RNGStateFromSeed(int64(cfg.Seed))
	if err != nil {
		return nil, err
	}
	st := &State{Params: p.Values, RNG: rng, DataRNG: rand.NewPCG(cfg.Seed, 0xda7a)}
	for _, v := range p.Values {
		st.EMA = append(st.EMA, v)
		st.M = append(st.M, tensors.FromShape(v.Shape()))
		st.V = append(st.V, tensors.FromShape(v.Shape()))
	}
	t.Names, t.Frozen, t.State = p.Names, p.Frozen, st
	return t, nil
}

// buildStep compiles the training step: inputs [params…, ema…, m…, v…, rng, x, step, labels], outputs
// [params…, ema…, m…, v…, rng, loss, gradNorm].
func (t *Trainer) buildStep() (*Exec, error) {
	backend.AvoidPoolDeadlock(t.Backend)
	np := len(t.Names)
	c := t.Config
	return NewExec(t.Backend, func(in []*Node) []*Node {
		params, ema, m, v := in[:np], in[np:2*np], in[2*np:3*np], in[3*np:4*np]
		rng, x, step, labels := in[4*np], in[4*np+1], in[4*np+2], in[4*np+3]
		var loss, newRng *Node
		if t.Objective != nil {
			loss, newRng = t.Objective(params, StopGradient(x), labels, rng)
		} else {
			score := nets.ScoreFn(t.Net, params, t.SDE, c.ScaleBySigma)
			loss, newRng = losses.Loss(t.SDE, score, StopGradient(x), rng, c.Loss)
		}
		var trainable []*Node
		for i, p := range params {
			if !t.Frozen[i] {
				trainable = append(trainable, p)
			}
		}
		grads := Gradient(loss, trainable...)
		sq := ZerosLike(loss)
		for _, g := range grads {
			sq = Add(sq, ReduceAllSum(Square(g)))
		}
		norm := Sqrt(sq)
		scale := OnesLike(norm)
		if c.GradClip > 0 {
			scale = Div(Scalar(x.Graph(), norm.DType(), c.GradClip), Max(norm, Scalar(x.Graph(), norm.DType(), c.GradClip)))
		}
		n := AddScalar(step, 1) // this update's 1-based index
		lr := MulScalar(OnesLike(n), c.LR)
		if c.Warmup > 0 {
			lr = MulScalar(Min(DivScalar(n, float64(c.Warmup)), OnesLike(n)), c.LR)
		}
		bc1 := OneMinus(Pow(Scalar(x.Graph(), n.DType(), c.Beta1), n))
		bc2 := OneMinus(Pow(Scalar(x.Graph(), n.DType(), c.Beta2), n))
		rate := Scalar(x.Graph(), n.DType(), c.EMA)
		if c.EMAWarmup {
			rate = Min(rate, Div(OnePlus(step), AddScalar(step, 10)))
		}
		out := make([]*Node, 4*np+3)
		gi := 0
		for i, p := range params {
			newP, newM, newV := p, m[i], v[i]
			if !t.Frozen[i] {
				g := Mul(grads[gi], scale)
				gi++
				newM = Add(MulScalar(m[i], c.Beta1), MulScalar(g, 1-c.Beta1))
				newV = Add(MulScalar(v[i], c.Beta2), MulScalar(Square(g), 1-c.Beta2))
				upd := Div(Div(newM, bc1), AddScalar(Sqrt(Div(newV, bc2)), c.AdamEps))
				newP = Sub(p, Mul(lr, upd))
			}
			out[i] = newP
			out[np+i] = Add(Mul(rate, ema[i]), Mul(OneMinus(rate), newP))
			out[2*np+i], out[3*np+i] = newM, newV
		}
		out[4*np], out[4*np+1], out[4*np+2] = newRng, loss, norm
		return out
	})
}

// batchTensor draws the next batch from the data as a float32 [Batch, d] tensor and its int32
// labels [Batch] (zeros for unlabeled data).
func (t *Trainer) batchTensor() (*tensors.Tensor, *tensors.Tensor) {
	r := rand.New(t.State.DataRNG)
	var pts [][]float64
	labels := make([]int32, t.Config.Batch)
	if l, ok := t.Data.(Labeled); ok && t.Objective != nil {
		var ks []int
		pts, ks = l.SampleLabeled(r, t.Config.Batch)
		for i, k := range ks {
			labels[i] = int32(k)
		}
	} else {
		pts = t.Data.Sample(r, t.Config.Batch)
	}
	d := len(pts[0])
	flat := make([]float32, 0, len(pts)*d)
	for _, p := range pts {
		for _, v := range p {
			flat = append(flat, float32(v))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, len(pts), d), tensors.FromFlatDataAndDimensions(labels, len(labels))
}

// ErrDiverged is wrapped by the error of Run when the loss is not finite or diverges.
var ErrDiverged = errors.New("training diverged")

// maxDivergeWindow bounds Config.DivergeWindow (the median is taken at every step).
const maxDivergeWindow = 100_000

// divergence returns an error wrapping ErrDiverged when loss, the loss of the next step, is not
// finite or strays from the running median as Config.DivergeFactor says.
func (t *Trainer) divergence(loss float64) error {
	st, c := t.State, t.Config
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w: the loss is %v at step %d (after %d good steps): lower --lr, keep --grad-clip on, or check the data for NaN/huge values; this step was not saved, the last checkpoint is kept", ErrDiverged, loss, st.Step+1, st.Step)
	}
	if c.DivergeFactor == 0 || len(st.Losses) < c.DivergeWindow {
		return nil
	}
	med, mad := medianMAD(st.Losses[len(st.Losses)-c.DivergeWindow:])
	if math.Abs(loss-med) <= c.DivergeFactor*max(math.Abs(med), mad) {
		return nil
	}
	return fmt.Errorf("%w: the loss is %.4g at step %d, more than %g× off the median %.4g of the last %d steps (--diverge-factor, --diverge-window): lower --lr or keep --grad-clip on and resume; this step was not saved, the last checkpoint is kept",
		ErrDiverged, loss, st.Step+1, c.DivergeFactor, med, c.DivergeWindow)
}

// medianMAD returns the median of v and the median absolute deviation from it.
func medianMAD(v []float64) (med, mad float64) {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med = middle(s)
	for i, x := range s {
		s[i] = math.Abs(x - med)
	}
	sort.Float64s(s)
	return med, middle(s)
}

// middle is the median of sorted values.
func middle(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Close releases the checkpoint directory's lock (see OpenDir); the trainer must not save after
// it. The end of the process releases the lock too.
func (t *Trainer) Close() error {
	return t.dir.Close()
}

// Run trains until Config.Steps, writing checkpoints to Dir and the progress to log (nil: none).
// A non-finite or diverging loss (Config.DivergeFactor) stops training with an error wrapping
// ErrDiverged that names the step; that step's state is never saved, so the checkpoints stay.
func (t *Trainer) Run(log io.Writer) error {
	if t.step == nil {
		var err error
		if t.step, err = t.buildStep(); err != nil {
			return err
		}
	}
	np := len(t.Names)
	st := t.State
	var bar *progress.Bar
	smooth := math.NaN()
	if log != nil && st.Step < t.Config.Steps {
		bar = progress.New(fmt.Sprintf("train %s/%s", t.SDE.Name(), t.objectiveName()), t.Config.Steps, log)
		bar.Extra = func() string { return fmt.Sprintf("loss %.4g", smooth) }
	}
	start := time.Now()
	for st.Step < t.Config.Steps {
		args := make([]any, 0, 4*np+3)
		for _, group := range [][]*tensors.Tensor{st.Params, st.EMA, st.M, st.V} {
			for _, v := range group {
				args = append(args, v)
			}
		}
		x, labels := t.batchTensor()
		args = append(args, st.RNG, x, float32(st.Step), labels)
		outs, err := t.step.Call(args...)
		if err != nil {
			return fmt.Errorf("training step %d: %w", st.Step+1, err)
		}
		loss := float64(outs[4*np+1].Value().(float32))
		if err := t.divergence(loss); err != nil {
			return err
		}
		st.Params, st.EMA, st.M, st.V = outs[:np], outs[np:2*np], outs[2*np:3*np], outs[3*np:4*np]
		st.RNG = outs[4*np]
		st.Step++
		st.Losses = append(st.Losses, loss)
		if math.IsNaN(smooth) {
			smooth = loss
		}
		smooth = 0.98*smooth + 0.02*loss
		if t.Dir != "" && t.Config.CheckpointEvery > 0 && st.Step%t.Config.CheckpointEvery == 0 {
			if err := t.Save(); err != nil {
				return err
			}
		}
		bar.Update(st.Step)
		if t.Progress != nil {
			t.Progress(st.Step, t.Config.Steps)
		}
	}
	bar.Finish()
	if log != nil && len(st.Losses) > 0 {
		el := time.Since(start).Seconds()
		fmt.Fprintf(log, "step %d, loss %.4g (last 100 steps' mean %.4g), %.1fs\n", st.Step, st.Losses[len(st.Losses)-1], MeanTail(st.Losses, 100), el)
	}
	if t.Dir != "" {
		return t.Save()
	}
	return nil
}

// MeanTail is the mean of the last n values of v (all of them when fewer).
func MeanTail(v []float64, n int) float64 {
	if len(v) < n {
		n = len(v)
	}
	s := 0.0
	for _, x := range v[len(v)-n:] {
		s += x
	}
	return s / float64(n)
}

// ScoreFn returns the trained score with the EMA weights (ema = true, as the references sample)
// or the raw weights, as constants of the graph it is used in.
func (t *Trainer) ScoreFn(ema bool) sde.ScoreFn {
	vals := t.State.Params
	if ema {
		vals = t.State.EMA
	}
	return scoreFromValues(t.Net, t.SDE, vals, t.Config.ScaleBySigma)
}

func scoreFromValues(net nets.Net, s sde.SDE, vals []*tensors.Tensor, scaleBySigma bool) sde.ScoreFn {
	return func(x, tt *Node) *Node {
		p := make([]*Node, len(vals))
		for i, v := range vals {
			p[i] = ConvertDType(Const(x.Graph(), v), x.DType())
		}
		return nets.ScoreFn(net, p, s, scaleBySigma)(x, tt)
	}
}

// Describe is a one-line summary of the network, SDE and loss.
func (t *Trainer) Describe() string {
	n := 0
	for i, v := range t.State.Params {
		if !t.Frozen[i] {
			n += v.Shape().Size()
		}
	}
	return fmt.Sprintf("%s network (%d trainable parameters) on the %s SDE, loss %s", t.Net.Spec().Kind, n, t.SDE.Name(), t.objectiveName())
}

// objectiveName is ObjectiveName, "custom" for an unnamed Objective, else the loss kind.
func (t *Trainer) objectiveName() string {
	switch {
	case t.Objective == nil:
		return strings.ToUpper(t.Config.Loss.Kind)
	case t.ObjectiveName != "":
		return t.ObjectiveName
	}
	return "custom"
}
