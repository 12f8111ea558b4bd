(* Why this exists: Coq 8.16.1's guard checker, in the kernel and in coqchk alike, accepts some
   fixpoints and cofixpoints that do not terminate (rocq #20455, #22386, ...), and with one a file
   proves False with no axiom.  The proof gate's text rules keep a file from writing recursion, but
   text rules read spelling, and spelling has had holes.  This audit reads the compiled terms
   instead: every fixpoint in a constant of the checked file must pass a guard check far narrower
   than Coq's (recursive calls only on variables bound by a pattern of the decreasing argument),
   and no cofixpoint may occur at all.  Nor may the file's own declarations be universe polymorphic
   or cumulative, or mention SProp: the constructs other 8.16.1 kernel bugs go through (rocq #21688,
   #22376, #22378, ...), which the text rules also refuse by spelling.  Library constants (other
   compiled files) are trusted. *)

open Names
open Constr

exception Refused of string

(* Printed with every verdict: the gate accepts only the version it was written for. *)
let version = "labgate-audit 1"

let refuse fmt = Printf.ksprintf (fun s -> raise (Refused s)) fmt

module IntSet = Set.Make (Int)

let rec head t =
  match kind t with App (f, _) -> head f | Cast (c, _, _) -> head c | _ -> t

(* A binder introduced when [depth] binders are in scope has level [depth];
   [Rel k] seen at depth [d] refers to level [d - k]. *)

let fix_name names i =
  match names.(i).Context.binder_name with
  | Name id -> Id.to_string id
  | Anonymous -> Printf.sprintf "fixpoint #%d" i

(* Check one fixpoint block: in body [i], after its [recidx.(i) + 1] leading lambdas, every
   occurrence of a block function must be applied to at least its decreasing argument, and that
   argument must be a variable bound, as an assumption whose type is an inductive of the matched
   block, by a branch of a match whose scrutinee is the decreasing variable or such a variable. *)
let check_fix env ((recidx, _), (names, _, bodies)) =
  let n = Array.length bodies in
  let is_fn lvl = lvl >= 0 && lvl < n in
  let check_body i body =
    let name = fix_name names i in
    (* The leading binders' types are under the function binders too: kept to be walked. *)
    let rec strip t depth m leading =
      if m < 0 then (t, depth, leading)
      else
        match kind t with
        | Lambda (_, ty, b) -> strip b (depth + 1) (m - 1) ((depth, ty) :: leading)
        | _ -> refuse "fixpoint %s: its decreasing argument is not bound by a plain lambda" name
    in
    let t, depth0, leading = strip body n recidx.(i) [] in
    let recvar = depth0 - 1 in
    let rec walk depth smaller t =
      match kind t with
      | Rel k ->
          if is_fn (depth - k) then
            refuse "fixpoint %s: recursive function %s used without its decreasing argument" name
              (fix_name names (depth - k))
      | App (f, args) ->
          (match kind f with
          | Rel k when is_fn (depth - k) -> (
              let j = depth - k in
              let r = recidx.(j) in
              if Array.length args <= r then
                refuse "fixpoint %s: call of %s without its decreasing argument" name (fix_name names j);
              match kind args.(r) with
              | Rel a when IntSet.mem (depth - a) smaller -> ()
              | _ ->
                  refuse
                    "fixpoint %s: call of %s on an argument that is not a variable bound by a pattern of \
                     the decreasing argument"
                    name (fix_name names j))
          | _ -> walk depth smaller f);
          Array.iter (walk depth smaller) args
      | Case (ci, u, pms, p, iv, c, brs) ->
          let _, p', _, _, brs' = Inductive.expand_case env (ci, u, pms, p, iv, c, brs) in
          Array.iter (walk depth smaller) pms;
          walk depth smaller p';
          (match iv with CaseInvert { indices } -> Array.iter (walk depth smaller) indices | NoInvert -> ());
          walk depth smaller c;
          let block = fst ci.ci_ind in
          (* Structural recursion is only well founded on inductive types, not coinductive ones. *)
          let from_root =
            (match kind c with
            | Rel a -> depth - a = recvar || IntSet.mem (depth - a) smaller
            | _ -> false)
            && (Environ.lookup_mind block env).Declarations.mind_finite <> Declarations.CoFinite
          in
          let rec branch depth smaller m t =
            if m = 0 then walk depth smaller t
            else
              match kind t with
              | Lambda (_, ty, b) ->
                  walk depth smaller ty;
                  let smaller =
                    match kind (head ty) with
                    | Ind ((mind, _), _) when from_root && MutInd.CanOrd.equal mind block ->
                        IntSet.add depth smaller
                    | _ -> smaller
                  in
                  branch (depth + 1) smaller (m - 1) b
              | LetIn (_, v, ty, b) ->
                  walk depth smaller v;
                  walk depth smaller ty;
                  branch (depth + 1) smaller (m - 1) b
              | _ -> refuse "fixpoint %s: a match branch has fewer binders than its constructor" name
          in
          Array.iteri (fun j br -> branch depth smaller ci.ci_cstr_ndecls.(j) br) brs'
      | Lambda (_, ty, b) | Prod (_, ty, b) ->
          walk depth smaller ty;
          walk (depth + 1) smaller b
      | LetIn (_, v, ty, b) ->
          walk depth smaller v;
          walk depth smaller ty;
          walk (depth + 1) smaller b
      | Fix (_, (_, tys, bds)) | CoFix (_, (_, tys, bds)) ->
          Array.iter (walk depth smaller) tys;
          Array.iter (walk (depth + Array.length bds) smaller) bds
      | Cast (c, _, ty) ->
          walk depth smaller c;
          walk depth smaller ty
      | Proj (_, c) -> walk depth smaller c
      | Array (_, elems, def, ty) ->
          Array.iter (walk depth smaller) elems;
          walk depth smaller def;
          walk depth smaller ty
      | Var _ | Meta _ | Evar _ | Sort _ | Const _ | Ind _ | Construct _ | Int _ | Float _ -> ()
    in
    List.iter (fun (depth, ty) -> walk depth IntSet.empty ty) leading;
    walk depth0 IntSet.empty t
  in
  Array.iteri check_body bodies

module Scanned = Hashtbl.Make (struct
  type t = constr

  let equal = ( == )
  let hash = Hashtbl.hash
end)

type report = {
  mutable constants : int;
  mutable inductives : int;
  mutable fixpoints : int;
  mutable refusals : string list;
}

let polymorphic = function Declarations.Polymorphic _ -> true | Declarations.Monomorphic -> false

let rec root_dirpath = function
  | ModPath.MPfile dp -> Some dp
  | ModPath.MPbound _ -> None
  | ModPath.MPdot (mp, _) -> root_dirpath mp

(* Audit the constant [c] and every constant and inductive of its own file it reaches. *)
let audit_from (c : Constant.t) =
  let env = Global.env () in
  let file = root_dirpath (Constant.modpath c) in
  let in_file mp =
    match (root_dirpath mp, file) with
    | Some dp, Some f -> DirPath.equal dp f
    | _ -> true
  in
  let report = { constants = 0; inductives = 0; fixpoints = 0; refusals = [] } in
  let seen_constants = Hashtbl.create 64 in
  let seen_inductives = Hashtbl.create 16 in
  let first_visit table key =
    let first = not (Hashtbl.mem table key) in
    if first then Hashtbl.add table key ();
    first
  in
  let refuse_in owner why = report.refusals <- (owner ^ ": " ^ why) :: report.refusals in
  let pending = Queue.create () in
  (* Proof terms share subterms heavily (a [lia] certificate, a [ring] normal form): each shared node
     is scanned once, found by physical equality.  [scan] reads no binders, so this is exact. *)
  let scanned = Scanned.create 4096 in
  let rec scan owner t =
    if not (Scanned.mem scanned t) then begin
      Scanned.add scanned t ();
      scan_node owner t
    end
  and scan_node owner t =
    match kind t with
    | Sort s when Sorts.is_sprop s -> refuse_in owner "the sort SProp (Coq 8.16's conversion is unsound on it)"
    | (Lambda (na, _, _) | Prod (na, _, _) | LetIn (na, _, _, _))
      when na.Context.binder_relevance = Sorts.Irrelevant ->
        refuse_in owner "a binder of an SProp type"
    | Fix f ->
        report.fixpoints <- report.fixpoints + 1;
        (try check_fix env f with Refused why -> refuse_in owner why);
        Constr.iter (scan owner) t
    | CoFix _ ->
        refuse_in owner "a cofixpoint";
        Constr.iter (scan owner) t
    | Const (k, _) -> if in_file (Constant.modpath k) then Queue.add (`Constant k) pending
    | Ind ((mind, _), _) | Construct (((mind, _), _), _) ->
        if in_file (MutInd.modpath mind) then Queue.add (`Inductive mind) pending
    | Proj (p, c) ->
        let mind = fst (Projection.inductive p) in
        if in_file (MutInd.modpath mind) then Queue.add (`Inductive mind) pending;
        scan owner c
    | _ -> Constr.iter (scan owner) t
  in
  let scan_context owner = List.iter (Context.Rel.Declaration.iter_constr (scan owner)) in
  let audit_constant k =
    if first_visit seen_constants k then begin
      report.constants <- report.constants + 1;
      let owner = Constant.to_string k in
      let cb = Environ.lookup_constant k env in
      if polymorphic cb.Declarations.const_universes then
        refuse_in owner "a universe-polymorphic constant (several Coq 8.16 kernel bugs go through them)";
      scan owner cb.Declarations.const_type;
      match cb.Declarations.const_body with
      | Declarations.Def b -> scan owner b
      | Declarations.OpaqueDef o ->
          let b, _ = Global.force_proof Library.indirect_accessor o in
          scan owner b
      | Declarations.Undef _ | Declarations.Primitive _ -> ()
    end
  in
  let audit_inductive mind =
    if first_visit seen_inductives mind then begin
      report.inductives <- report.inductives + 1;
      let owner = MutInd.to_string mind in
      let mib = Environ.lookup_mind mind env in
      if polymorphic mib.Declarations.mind_universes then
        refuse_in owner "a universe-polymorphic inductive type (several Coq 8.16 kernel bugs go through them)";
      if Option.has_some mib.Declarations.mind_variance then
        refuse_in owner "a cumulative inductive type (several Coq 8.16 kernel bugs go through them)";
      scan_context owner mib.Declarations.mind_params_ctxt;
      Array.iter
        (fun mip ->
          scan_context owner mip.Declarations.mind_arity_ctxt;
          Array.iter (scan owner) mip.Declarations.mind_user_lc)
        mib.Declarations.mind_packets
    end
  in
  Queue.add (`Constant c) pending;
  while not (Queue.is_empty pending) do
    match Queue.pop pending with
    | `Constant k -> audit_constant k
    | `Inductive m -> audit_inductive m
  done;
  report

let audit qid =
  let open Pp in
  let c =
    match Nametab.global qid with
    | GlobRef.ConstRef c -> c
    | _ -> CErrors.user_err (str "Labgate Audit: not a constant: " ++ Libnames.pr_qualid qid)
  in
  let r = audit_from c in
  match List.rev r.refusals with
  | [] ->
      Feedback.msg_notice
        (str
           (Printf.sprintf "%s: ok: %d constants, %d inductives, %d fixpoints" version r.constants
              r.inductives r.fixpoints))
  | refusals ->
      CErrors.user_err
        (prlist_with_sep fnl (fun s -> str (version ^ ": refused: " ^ s)) refusals)
