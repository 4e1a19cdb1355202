//! The vendor side's stable codes: why an order is not submitted ([`EligibilityCode`]), why an
//! eligible order cannot make an invoice ([`MappingCode`]), and where an Order Error comes from
//! ([`OrderErrorSource`]).
//!
//! Each variant has exactly one spelling (`as_str`, `Display`, `FromStr`, serde). It is a public
//! contract: it is stored in DynamoDB (the Order Error's `code` and `source`, and its sort key
//! `ERROR#<source>#<code>#…`), logged, and printed by `invoicectl vendor preview`. Never rename
//! a variant's spelling; add a new variant instead.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

/// Why an order is not submitted (skipped, not an error). Spelled in kebab-case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, EnumIter, IntoStaticStr, AsRefStr, Display, EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum EligibilityCode {
    /// `order-not-shipped`
    OrderNotShipped,
    /// `upload-disabled`
    UploadDisabled,
    /// `not-a-vendor-account`
    NotAVendorAccount,
    /// `invoice-exists`
    InvoiceExists,
}

impl EligibilityCode {
    /// The stable spelling (`order-not-shipped`).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// What the code means, for a person.
    pub fn description(&self) -> &'static str {
        match self {
            EligibilityCode::OrderNotShipped => "the order's status is not Shipped; invoices are submitted for Shipped orders only",
            EligibilityCode::UploadDisabled => "the Amazon account's \"Upload Vendor Invoices?\" is not yes",
            EligibilityCode::NotAVendorAccount => "the Amazon account type is not Vendor",
            EligibilityCode::InvoiceExists => "an invoice already exists for the order",
        }
    }
}

/// Why an eligible order's data cannot make a valid invoice (it becomes an Order Error with
/// source [`OrderErrorSource::Mapping`] and nothing is sent). Spelled in kebab-case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, EnumIter, IntoStaticStr, AsRefStr, Display, EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum MappingCode {
    /// `missing-order-id`
    MissingOrderId,
    /// `invalid-currency`
    InvalidCurrency,
    /// `missing-marketplace-order-id`
    MissingMarketplaceOrderId,
    /// `missing-selling-party`
    MissingSellingParty,
    /// `no-seller-for-vendor-id`
    NoSellerForVendorId,
    /// `seller-address-missing`
    SellerAddressMissing,
    /// `seller-name-missing`
    SellerNameMissing,
    /// `invalid-country-code`
    InvalidCountryCode,
    /// `missing-country-code`
    MissingCountryCode,
    /// `missing-shipping-address-id`
    MissingShippingAddressId,
    /// `ship-to-address-not-found`
    ShipToAddressNotFound,
    /// `ship-to-address-incomplete`
    ShipToAddressIncomplete,
    /// `default-location-not-found`
    DefaultLocationNotFound,
    /// `location-vendor-id-missing`
    LocationVendorIdMissing,
    /// `location-address-incomplete`
    LocationAddressIncomplete,
    /// `invalid-quantity`
    InvalidQuantity,
    /// `invalid-item-price`
    InvalidItemPrice,
    /// `invalid-unit-of-measure`
    InvalidUnitOfMeasure,
    /// `amount-overflow`
    AmountOverflow,
    /// `no-accepted-items`
    NoAcceptedItems,
}

impl MappingCode {
    /// The stable spelling (`no-seller-for-vendor-id`).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// What the code means and what to fix, for a person.
    pub fn description(&self) -> &'static str {
        match self {
            MappingCode::MissingOrderId => "the order has no Id",
            MappingCode::InvalidCurrency => "the order's currency is not an ISO 4217 code",
            MappingCode::MissingMarketplaceOrderId => {
                "the order has no Marketplace Order Id (the Amazon PO number every invoice line must carry)"
            }
            MappingCode::MissingSellingParty => "the order has no Purchase Order Selling Party (the vendor code Amazon ordered from)",
            MappingCode::NoSellerForVendorId => {
                "no Seller has the order's Purchase Order Selling Party as its Vendor ID, so there is no remit-to address"
            }
            MappingCode::SellerAddressMissing => "the remit-to Seller has neither Street1 nor Street2",
            MappingCode::SellerNameMissing => "the remit-to Seller has no name",
            MappingCode::InvalidCountryCode => "a country code is not the 2-letter ISO 3166 code SP-API needs (US, not USA)",
            MappingCode::MissingCountryCode => "an address has no country code (2-letter ISO 3166)",
            MappingCode::MissingShippingAddressId => "the order has no Shipping Address ID (the ship-to party id)",
            MappingCode::ShipToAddressNotFound => {
                "the order has no shipping address and no Amazon Delivery Location has its Shipping Address ID"
            }
            MappingCode::ShipToAddressIncomplete => "the ship-to address has no name or no street (Street 1)",
            MappingCode::DefaultLocationNotFound => "the Amazon account's default Location does not exist",
            MappingCode::LocationVendorIdMissing => "the default Location has no Vendor ID (the ship-from party id)",
            MappingCode::LocationAddressIncomplete => "the default Location has no name or no Street1",
            MappingCode::InvalidQuantity => "an accepted product's quantity is not a positive whole number",
            MappingCode::InvalidItemPrice => "an accepted product's item price (the net cost) is not greater than 0",
            MappingCode::InvalidUnitOfMeasure => "an accepted product's unit of measure is neither Eaches nor Cases",
            MappingCode::AmountOverflow => "a line amount or the invoice total is too large to compute exactly",
            MappingCode::NoAcceptedItems => "the order has no accepted Product In Order lines to invoice",
        }
    }
}

/// Where an Order Error comes from. Spelled as documented: `mapping`, and the SP-API
/// operation's own name for Amazon's answers (`submitInvoices`, `getTransaction`), exactly as
/// stored records have it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, EnumIter, IntoStaticStr, AsRefStr, Display, EnumString,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum OrderErrorSource {
    /// `mapping`: the order's data cannot make a valid invoice ([`MappingCode`]).
    Mapping,
    /// `submitInvoices`: Amazon refused the submission (the code is Amazon's).
    SubmitInvoices,
    /// `getTransaction`: Amazon's processing of the submitted invoice failed (the code is Amazon's).
    GetTransaction,
}

impl OrderErrorSource {
    /// The stable spelling (`submitInvoices`).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// What an Order Error from this source means, for a person.
    pub fn description(&self) -> &'static str {
        match self {
            OrderErrorSource::Mapping => "the order's data cannot make a valid invoice; nothing was sent to Amazon",
            OrderErrorSource::SubmitInvoices => "Amazon refused the invoice when it was submitted (submitInvoices)",
            OrderErrorSource::GetTransaction => "Amazon accepted the submission but its processing failed (getTransaction)",
        }
    }
}
