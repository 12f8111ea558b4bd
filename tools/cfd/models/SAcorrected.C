// SAcorrected: Spalart-Allmaras with a model-form correction whose form and coefficients are read at run
// time from SAcorrectedCoeffs, so one compiled library serves a whole search.
//
//   production  Cb1 Stilda nuTilda          x max(0, 1 + Cproduction  F[productionFeature])
//   destruction Cw1 fw nuTilda^2 / d^2      x max(0, 1 + Cdestruction F[destructionFeature])
//   eddy viscosity nut = nuTilda fv1        x max(0, 1 + Cfv1         F[fv1Feature])
//
// Features F (dimensionless, selected by the integer switches):
//   0  1 everywhere (a plain multiplier)
//   1  the shielding function fd = 1 - tanh((8 rd)^3): 0 in attached boundary layers, 1 in free shear
//      layers and recirculation
//   2  strain share |S|^2 / (|S|^2 + |Omega|^2): 0 in solid rotation, 1/2 in pure shear, 1 in pure strain
//   3  tanh(chi / featureScale), chi = nuTilda / nu
//   4  1 - exp(-d / (featureScale referenceLength)), d the wall distance and referenceLength the case's own
//      length (hill height, step height), written by the case: the scale is in units of the flow's geometry,
//      so one form means the same on every case
//   5  fd exp(-chi / (50 featureScale)): free shear layers and recirculation where the eddy viscosity is
//      still low against the molecular one (a shear layer at a lower Reynolds number, or just after
//      separation); featureScale 1 puts the decay at chi = 50
//   6  (1 - exp(-d / (0.1 referenceLength))) exp(-chi / (50 featureScale)): away from walls where the eddy
//      viscosity is still low against the molecular one. On destruction (Cdestruction < 0) it raises the
//      eddy viscosity of the outer flow at a low turbulent Reynolds number (the periodic hill's bubble
//      shortens) and leaves flows at a higher one (the backward-facing step) nearly as they were
//   7  (1 - fd) tanh(max(0, -p+) / 0.025), p+ = nu (dp/ds) / u*^3 with u*^2 = (nu + nuTilda fv1)|S| the
//      local total shear stress and s the flow direction: wall layers under a strongly favourable pressure
//      gradient (above Patel and Head's relaminarisation threshold, p+ near -0.025), 0 on a flat plate.
//      On the eddy viscosity (Cfv1 < 0) it lowers the skin-friction peak of an accelerated layer, which SA
//      over-predicts because it has no relaminarisation. u*^2 is finite at the wall, so unlike the
//      acceleration parameter K it stays bounded where the velocity vanishes; featureScale is unused
// With every C* at 0 the model is Spalart-Allmaras exactly.

#include "turbulentTransportModels.H"
#include "SpalartAllmaras.H"
#include "fvOptions.H"
#include "bound.H"

namespace Foam
{
namespace RASModels
{

template<class BasicTurbulenceModel>
class SAcorrected
:
    public SpalartAllmaras<BasicTurbulenceModel>
{
protected:

    scalar Cproduction_;
    scalar Cdestruction_;
    scalar Cfv1_;
    label productionFeature_;
    label destructionFeature_;
    label fv1Feature_;
    scalar featureScale_;
    scalar referenceLength_;

    void readCorrection()
    {
        const dictionary& dict = this->coeffDict();
        Cproduction_ = dict.lookupOrDefault<scalar>("Cproduction", 0.0);
        Cdestruction_ = dict.lookupOrDefault<scalar>("Cdestruction", 0.0);
        Cfv1_ = dict.lookupOrDefault<scalar>("Cfv1", 0.0);
        productionFeature_ = dict.lookupOrDefault<label>("productionFeature", 0);
        destructionFeature_ = dict.lookupOrDefault<label>("destructionFeature", 0);
        fv1Feature_ = dict.lookupOrDefault<label>("fv1Feature", 0);
        featureScale_ = dict.lookupOrDefault<scalar>("featureScale", 1.0);
        if (featureScale_ <= 0)
        {
            FatalErrorInFunction << "featureScale must be positive" << exit(FatalError);
        }
        referenceLength_ = dict.lookupOrDefault<scalar>("referenceLength", 1.0);
        if (referenceLength_ <= 0)
        {
            FatalErrorInFunction << "referenceLength must be positive" << exit(FatalError);
        }
    }

    //- (1 - fd) tanh(max(0, -p+)/0.025): wall layers under a pressure gradient strong enough to relaminarise,
    //  fd and u* from SA's own eddy viscosity nuTilda fv1
    tmp<volScalarField> relaminarisation(const volTensorField& gradU) const
    {
        const volScalarField& p = this->mesh_.template lookupObject<volScalarField>("p");
        const volScalarField magS(sqrt(2.0)*mag(symm(gradU)));
        const dimensionedScalar smallU("smallU", dimVelocity, 1e-8);
        const dimensionedScalar smallStress("smallStress", sqr(dimVelocity), 1e-12);
        const dimensionedScalar smallRate("smallRate", dimless/dimTime, SMALL);
        const dimensionedScalar smallLength("smallLength", dimLength, SMALL);
        const volScalarField dpds((this->U_ & fvc::grad(p))/(mag(this->U_) + smallU));
        // SA's own eddy viscosity, not nut_: a gate read from the viscosity it scales fed back on itself
        // and the solution oscillated instead of converging
        const volScalarField nutSA(this->nuTilda_*this->fv1(this->chi()));
        const volScalarField ustar2((this->nu() + nutSA)*magS + smallStress);
        const volScalarField pplus(this->nu()*dpds/(ustar2*sqrt(ustar2)));
        const volScalarField rd
        (
            (nutSA + this->nu())
           /(max(mag(gradU), smallRate)*sqr(this->kappa_*max(this->y_, smallLength)))
        );
        return tanh(pow3(8.0*rd))*tanh(max(-pplus, dimensionedScalar("zero", dimless, 0.0))/0.025);
    }

    tmp<volScalarField> feature(const label form) const
    {
        const volTensorField gradU(fvc::grad(this->U_));
        const dimensionedScalar smallRate("smallRate", dimless/dimTime, SMALL);
        const dimensionedScalar smallLength("smallLength", dimLength, SMALL);
        if (form == 1 || form == 5)
        {
            const volScalarField rd
            (
                (this->nut_ + this->nu())
               /(max(mag(gradU), smallRate)*sqr(this->kappa_*max(this->y_, smallLength)))
            );
            if (form == 5)
            {
                return (1.0 - tanh(pow3(8.0*rd)))*exp(-this->chi()/(50.0*featureScale_));
            }
            return 1.0 - tanh(pow3(8.0*rd));
        }
        if (form == 2)
        {
            const volScalarField S2(2.0*magSqr(symm(gradU)));
            const volScalarField W2(2.0*magSqr(skew(gradU)));
            return S2/(S2 + W2 + sqr(smallRate));
        }
        if (form == 3)
        {
            return tanh(this->chi()/featureScale_);
        }
        if (form == 4)
        {
            return 1.0 - exp(-this->y_/dimensionedScalar("scale", dimLength, featureScale_*referenceLength_));
        }
        if (form == 6)
        {
            return
                (1.0 - exp(-this->y_/dimensionedScalar("scale", dimLength, 0.1*referenceLength_)))
               *exp(-this->chi()/(50.0*featureScale_));
        }
        if (form == 7)
        {
            return relaminarisation(gradU);
        }
        return tmp<volScalarField>::New
        (
            IOobject("one", this->runTime_.timeName(), this->mesh_),
            this->mesh_,
            dimensionedScalar("one", dimless, 1.0)
        );
    }

    tmp<volScalarField> multiplier(const scalar amplitude, const label form) const
    {
        return max
        (
            1.0 + amplitude*feature(form),
            dimensionedScalar("zero", dimless, 0.0)
        );
    }

    virtual void correctNut()
    {
        const volScalarField chi(this->chi());
        const volScalarField fv1(this->fv1(chi));
        if (Cfv1_ == 0)
        {
            SpalartAllmaras<BasicTurbulenceModel>::correctNut(fv1);
            return;
        }
        const volScalarField scaled(fv1*multiplier(Cfv1_, fv1Feature_));
        SpalartAllmaras<BasicTurbulenceModel>::correctNut(scaled);
    }

public:

    typedef typename BasicTurbulenceModel::alphaField alphaField;
    typedef typename BasicTurbulenceModel::rhoField rhoField;
    typedef typename BasicTurbulenceModel::transportModel transportModel;

    TypeName("SAcorrected");

    SAcorrected
    (
        const alphaField& alpha,
        const rhoField& rho,
        const volVectorField& U,
        const surfaceScalarField& alphaRhoPhi,
        const surfaceScalarField& phi,
        const transportModel& transport,
        const word& propertiesName = turbulenceModel::propertiesName,
        const word& type = typeName
    )
    :
        SpalartAllmaras<BasicTurbulenceModel>
        (
            alpha, rho, U, alphaRhoPhi, phi, transport, propertiesName, type
        )
    {
        readCorrection();
        if (type == typeName)
        {
            this->printCoeffs(type);
        }
    }

    virtual ~SAcorrected() = default;

    virtual bool read()
    {
        if (SpalartAllmaras<BasicTurbulenceModel>::read())
        {
            readCorrection();
            return true;
        }
        return false;
    }

    virtual void correct()
    {
        if (!this->turbulence_)
        {
            return;
        }
        {
            const alphaField& alpha = this->alpha_;
            const rhoField& rho = this->rho_;
            const surfaceScalarField& alphaRhoPhi = this->alphaRhoPhi_;
            volScalarField& nuTilda = this->nuTilda_;
            fv::options& fvOptions(fv::options::New(this->mesh_));

            eddyViscosity<RASModel<BasicTurbulenceModel>>::correct();

            const volScalarField chi(this->chi());
            const volScalarField fv1(this->fv1(chi));
            const volScalarField Stilda(this->Stilda(chi, fv1));
            const volScalarField betaP(multiplier(Cproduction_, productionFeature_));
            const volScalarField betaD(multiplier(Cdestruction_, destructionFeature_));

            tmp<fvScalarMatrix> nuTildaEqn
            (
                fvm::ddt(alpha, rho, nuTilda)
              + fvm::div(alphaRhoPhi, nuTilda)
              - fvm::laplacian(alpha*rho*this->DnuTildaEff(), nuTilda)
              - this->Cb2_/this->sigmaNut_*alpha*rho*magSqr(fvc::grad(nuTilda))
             ==
                this->Cb1_*alpha*rho*Stilda*nuTilda*betaP
              - fvm::Sp(this->Cw1_*alpha*rho*this->fw(Stilda)*nuTilda/sqr(this->y_)*betaD, nuTilda)
              + fvOptions(alpha, rho, nuTilda)
            );

            nuTildaEqn.ref().relax();
            fvOptions.constrain(nuTildaEqn.ref());
            solve(nuTildaEqn);
            fvOptions.correct(nuTilda);
            bound(nuTilda, dimensionedScalar(nuTilda.dimensions(), Zero));
            nuTilda.correctBoundaryConditions();
        }
        correctNut();
    }
};

} // End namespace RASModels
} // End namespace Foam

makeRASModel(SAcorrected);
